"""The CDK app that deploys cronbeat: one stack, one construct per concern."""
