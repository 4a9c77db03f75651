"""Family session facilitator: a therapist runs structured family communication exercises live."""
