"""The app for servers and the flask command: `gunicorn -k eventlet -w 1 wsgi:app`."""

from facilitator import create_app

app = create_app()
