//! `simrace serve`: bind 127.0.0.1, say where, and answer requests until stopped (the
//! page and its calls are [`crate::serve`]'s).

use super::args::ServeArgs;
use super::print_out;

pub(super) fn serve(a: &ServeArgs) -> u8 {
    let listener = match std::net::TcpListener::bind(("127.0.0.1", a.port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("simrace: cannot listen on 127.0.0.1:{}: {e}", a.port);
            return 2;
        }
    };
    let port = listener.local_addr().map(|x| x.port()).unwrap_or(a.port);
    print_out(&format!(
        "simrace serve: http://127.0.0.1:{port}/ (Ctrl-C stops it)\n"
    ));
    crate::serve::serve(listener);
    0
}
