-- The workstation's findings list sorts by component as well as by severity and id; this
-- index lets that order page by keyset like the others.
CREATE INDEX IF NOT EXISTS finding_set_component ON finding(set_id, component_key, vuln_id);
