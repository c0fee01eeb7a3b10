"""The `digitnet sweep` command line: how its options are read."""


def test_save_models_without_a_directory_names_it_after_the_database() -> None:
    from digitnet.cli import build_parser
    from digitnet.cli import sweep as sweep_command

    args = build_parser().parse_args(["sweep", "--hidden", "4", "--out", "runs.db", "--save-models"])
    assert args.save_models is sweep_command.DEFAULT_MODELS_DIR
    args = build_parser().parse_args(["sweep", "--hidden", "4", "--out", "runs.db", "--save-models", "kept"])
    assert args.save_models == "kept"
