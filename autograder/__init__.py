"""Instructors' autograder: collect students' notebooks, grade them with nbgrader, export grades.csv."""
