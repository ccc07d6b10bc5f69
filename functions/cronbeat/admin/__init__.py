"""Administration commands run with the operator's own AWS credentials (`cronbeat keys ...`)."""
