-- reserved for the tui work; append-only once shipped.
SELECT 1;
