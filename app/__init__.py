"""Task: T-001
Spec: specs/features/plugins.md §Layout

Todo API: a FastAPI kernel (`app.core`) and the built-in plugins (`app.plugins`).
"""
