"""Echo Notify: render a pipeline's metrics file and post it to Slack through Echo."""
