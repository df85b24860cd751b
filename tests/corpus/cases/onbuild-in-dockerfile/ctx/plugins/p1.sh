echo p1
