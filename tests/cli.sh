#!/bin/sh
# placeholder: replaced by the CLI tests
exit 0
