"""Instructors' autograder: collect students' notebooks, grade them with nbgrader (each kernel in a
bubblewrap sandbox, autograder/sandbox.py), export grades.csv."""
