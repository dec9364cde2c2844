# Sourced by the check benchmarks: serve "$DIR/www" with nginx on a free loopback port.
# Sets PORT and BASE, and stops nginx when the calling script exits. NGINX_SERVER, when set,
# holds more directives for the server block (noisy.sh's noise).
# nginx workers run as another user when started by root: let them read the pages.
chmod a+rx "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$DIR/nginx"
cat >"$DIR/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    default_type text/html;
    client_body_temp_path $DIR/nginx;
    proxy_temp_path $DIR/nginx;
    fastcgi_temp_path $DIR/nginx;
    uwsgi_temp_path $DIR/nginx;
    scgi_temp_path $DIR/nginx;
    server {
        listen 127.0.0.1:$PORT;
        root $DIR/www;
        ${NGINX_SERVER:-}
    }
}
CONF
nginx -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx"
trap 'kill $(cat "$DIR/nginx/nginx.pid") 2>/dev/null || true' EXIT
BASE="http://127.0.0.1:$PORT"
