#!/bin/sh
wget -q localhost:8080/health
