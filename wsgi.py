from drafting import create_app

app = create_app()
