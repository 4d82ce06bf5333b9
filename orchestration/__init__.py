"""When and how bullpen's assets run: resources, jobs, schedules and the `Definitions`."""
