"""Work off the GUI thread and the bridges that bring its results back as Qt signals."""
