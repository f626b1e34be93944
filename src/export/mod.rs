//! Export: one package model built once from the store, rendered as JSON, PDF, VEX and POA&M.
