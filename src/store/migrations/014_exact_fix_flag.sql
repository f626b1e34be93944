-- finding.fix_disagrees becomes exact: the import now sets it from the views it stores
-- (one per file), by the rule the gate's fix cross-check applies to them, so the gate can
-- count the flag and read views only for the findings it lists. Stores written since
-- migration 010 flagged from every view the merge saw, a superset: recompute the flagged
-- rows from their stored views (010's rule, which is the gate's).
UPDATE finding SET fix_disagrees = EXISTS (
    SELECT 1 FROM finding_source s WHERE s.finding_id = finding.id AND json_valid(s.view)
    GROUP BY s.finding_id
    HAVING COUNT(DISTINCT s.scanner) > 1
       AND COUNT(DISTINCT COALESCE(json_extract(s.view, '$.fixed_versions'), '[]')) > 1)
WHERE fix_disagrees;
