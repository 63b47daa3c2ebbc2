"""Task: T-001
Spec: specs/features/plugins.md §Built-in plugins

The built-in plugins. Each is a package registered under its own name; the kernel treats them
exactly like third-party plugins loaded from the `todo_api.plugins` entry points.
"""
