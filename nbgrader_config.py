"""nbgrader configuration of the course.

Instructor versions of the exercises live in ``solutions/`` (nbgrader's *source*); the
student versions in ``exercises/`` (nbgrader's *release*) are generated from them with

    nbgrader generate_assignment <assignment> --force

and committed. Grading: ``nbgrader autograde <assignment>`` on ``submitted/``.
"""

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "aevae-physics"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# A student's notebook gets this long per cell when it is graded (seconds); an endless
# loop is interrupted and the cell counts as failed instead of stalling the batch.
c.ExecutePreprocessor.timeout = 120
c.Execute.timeout = 120

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Robust grading (utils/grading.py): a cell that hangs even through an interrupt, or kills
# the kernel, costs only its own points; deleted test cells are put back; test cells check
# that numpy/torch/built-ins were not replaced; feedback never shows hidden tests.
c.OverwriteCells.add_missing_cells = True
c.Autograde.autograde_preprocessors = [
    "utils.grading.GuardTests",
    "utils.grading.RobustExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "utils.grading.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
