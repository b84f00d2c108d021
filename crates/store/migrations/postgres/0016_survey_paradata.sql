-- Paradata of an interviewer's answer (issue 18): who asked (the
-- interviewer's code as the firm gives it, no name required) and whether
-- the respondent was helped one to one (the elderly, the less literate).
-- Both empty for self-completed answers; the duration is submitted − started.
ALTER TABLE survey_responses ADD COLUMN interviewer TEXT;
ALTER TABLE survey_responses ADD COLUMN assisted BOOLEAN;
