-- reserved for the export work; append-only once shipped.
SELECT 1;
