-- pingan store, version 3: the login rate limit counts recent attempts per
-- client address in the database, so it holds across server instances.
CREATE INDEX login_history_client ON login_history (client, at);
