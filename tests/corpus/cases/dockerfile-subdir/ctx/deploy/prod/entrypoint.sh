#!/bin/sh
exec /app/main.sh
