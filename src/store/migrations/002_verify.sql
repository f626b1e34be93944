-- reserved for the verify work; append-only once shipped.
SELECT 1;
