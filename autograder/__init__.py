"""Autograding the course's notebooks: the grading workflow and the sandbox its kernels run in."""
