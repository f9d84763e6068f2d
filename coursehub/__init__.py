"""A local JupyterHub for the course (`make hub`, `make hub-test`; docs/instructor_guide.md).

One class with several graders, as nbgrader documents it ("one class, multiple graders"):

- local system users (an instructor, a second grader, students; :mod:`coursehub.users`), logging in
  through the hub's real login page with their system passwords (PAM);
- a shared grading account runs formgrader as a JupyterHub service, in the course directory
  (the gradebook lives there once); the hub group ``formgrade-COURSE`` may open it;
- nbgrader's exchange in a shared folder (mode 1777, sticky), and nbgrader's extensions per role
  (:mod:`coursehub.layout`, :mod:`coursehub.provision`);
- the course's ``.venv`` is every single-user server's environment; everything on 127.0.0.1.
"""
