def test_editor_sees_documents(client, auth):
    auth.login("editor")
    page = client.get("/documents")
    assert page.status_code == 200
    assert b"Joint Declaration of European Health-Innovation Clusters on the European Health Data Space" in page.data
