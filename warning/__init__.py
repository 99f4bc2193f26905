"""coldwarn, the service: settings, storage, feeds, the cycle, scheduler, web and CLI."""
