import app

def test_main():
    app.main()
