import server.documents


def test_exported_members() -> None:
    assert server.documents.__all__ == ["DocumentTrigger", "Documents", "Dossier", "LabProfile", "gather", "generate",
                                        "install_document_trigger", "load_profile", "publish", "router"]
    for name in server.documents.__all__:
        assert getattr(server.documents, name) is not None
