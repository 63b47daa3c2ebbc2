"""Task: T-080
Spec: specs/operations/battery.md §Harness

Helpers for driving real `todo-api serve` processes over HTTP, shared by `bench` and `battery`.
"""
