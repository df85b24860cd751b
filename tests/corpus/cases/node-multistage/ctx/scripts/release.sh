#!/bin/sh
npm version patch
