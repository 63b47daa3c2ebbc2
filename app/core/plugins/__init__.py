"""Task: T-240
Spec: specs/features/plugins.md §The kernel
"""
