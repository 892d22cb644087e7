"""Where shipped files are found (touchpoint.resources): each resource is a folder of this checkout with files the
wheel takes, and the rules' own lookup of the schemas (udfs import nothing of touchpoint) finds the same folder.
tests/test_install.py checks the installed side."""

from touchpoint import HOME, ROOT
from touchpoint.resources import FILES, SHIPPED, resource_dir
from udfs.campaigns import SCHEMAS_DIR


def test_in_a_checkout_every_resource_is_the_repositorys_folder_with_files_to_ship():
    assert set(FILES) == set(SHIPPED)
    for name, folder in SHIPPED.items():
        assert resource_dir(name) == ROOT / folder
        assert any(p.is_file() for glob in FILES[name] for p in resource_dir(name).glob(glob)), name


def test_the_rules_find_the_schemas_where_touchpoint_does():
    assert resource_dir("schemas") == SCHEMAS_DIR


def test_a_checkout_keeps_generated_files_in_the_repository():
    assert HOME == ROOT
