-- reserved for the judge work; append-only once shipped.
SELECT 1;
