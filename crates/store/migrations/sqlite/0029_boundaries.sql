-- pingan store, version 29: region boundaries (issue 22, the 平安热力图 on
-- a real map): each region's outline as GeoJSON geometry, imported from a
-- FeatureCollection (`pingan import boundaries`); importing again replaces
-- the regions it covers.
CREATE TABLE boundaries (
    region      TEXT PRIMARY KEY,
    geometry    TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
