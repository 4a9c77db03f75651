"""Built-in content as data files: exercises and the feelings-and-needs vocabulary."""
