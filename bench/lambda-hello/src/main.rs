//! The cold-start baseline for scripts/bench.sh: the smallest useful lambda_http function.
use lambda_http::{service_fn, Body, Error, Request, Response};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_req: Request| async {
        Ok::<_, Error>(Response::builder().status(200).header("content-type", "application/json").body(Body::Text("{\"status\":\"ok\"}".into()))?)
    }))
    .await
}
