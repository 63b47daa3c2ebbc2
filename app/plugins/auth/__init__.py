"""Task: T-020
Spec: specs/features/authentication.md §Overview

The auth plugin (skeleton; accounts and tokens arrive with issue 3).
"""
