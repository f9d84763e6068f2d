"""The course benchmark (``make bench``): what each lesson costs and what transfer learning buys.

Run ``python -m bench.run_bench --help``. One module per concern:

- ``measure``: timing, medians with min/max, load average at each measurement;
- ``machine``: the machine's description (CPU model, cores, memory, GPU) and its file name;
- ``lesson_costs``: each lesson's wall time and the kernel's peak memory, quick and full mode;
- ``transfer_proof``: MobileNetV2 on ants vs bees, four ways to train, side by side;
- ``vgg16_cache_speedup``: the VGG16 lesson's cached features vs the frozen forward pass;
- ``grading_cost``: seconds to autograde one complete student and a class;
- ``install_cost``: a fresh ``make setup`` in a temporary clone;
- ``report``: the JSON results as Markdown, and the README block between its markers.
"""
