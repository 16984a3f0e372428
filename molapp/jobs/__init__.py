"""Background training jobs: state on disk under MOLAPP_HOME, run in their own processes."""
