int t[1];
