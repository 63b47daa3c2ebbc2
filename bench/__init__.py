"""Task: T-050
Spec: specs/api/rest-endpoints.md §Tasks

`make bench` (`python -m bench`): the task API measured over HTTP. See `bench/__main__.py`.
"""
