//! The JSON API over HTTP: catalogues, races, exports, tuning, every refusal, and the
//! time limit that cuts a long computation off without holding up other requests.
//! (The races are checked against `optimist compare`'s CSV in the CLI's tests.)

use optimist_lab::landscape::builtin;
use optimist_lab::race::Race;
use optimist_serve::client::{get, post};
use optimist_serve::{spawn, Limits, RaceResponse, MAX_BODY};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn server() -> SocketAddr {
    spawn(Limits::default()).unwrap()
}

fn post_json(addr: SocketAddr, path: &str, body: &Value) -> (u16, Value) {
    let r = post(addr, path, body.to_string().as_bytes()).unwrap();
    let json = r.json().unwrap_or_else(|e| panic!("{e}: {}", r.text()));
    (r.status, json)
}

/// The status and error of a refused request.
fn refused(addr: SocketAddr, path: &str, body: &[u8]) -> String {
    let r = post(addr, path, body).unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.json().unwrap()["error"].as_str().unwrap().to_string()
}

#[test]
fn catalogues_list_every_landscape_and_optimizer_with_ranges() {
    let addr = server();
    let l = get(addr, "/api/landscapes").unwrap().json().unwrap();
    let names: Vec<&str> = l["landscapes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, optimist_lab::landscape::builtin_names());
    let rosenbrock = &l["landscapes"][names.iter().position(|&n| n == "rosenbrock").unwrap()];
    assert_eq!(rosenbrock["minima"], json!([[1.0, 1.0]]));

    let o = get(addr, "/api/optimizers").unwrap().json().unwrap();
    let list = o["optimizers"].as_array().unwrap();
    assert_eq!(list.len(), optimist::registry::catalog().len());
    let adam = list
        .iter()
        .find(|o| o["name"] == "adam" && o["convention"] == "article")
        .unwrap();
    let beta1 = adam["hyperparameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "beta1")
        .unwrap();
    assert_eq!(beta1["default"], 0.9);
    assert_eq!(
        beta1["range"],
        json!({"min": 0.0, "max": 1.0, "min_included": true, "max_included": false, "integer": false})
    );
    assert_eq!(beta1["allowed"], "0 <= beta1 < 1");
    let lr = &adam["hyperparameters"][0];
    assert_eq!(
        (lr["name"].as_str(), lr["range"]["min_included"].as_bool()),
        (Some("lr"), Some(false))
    );
}

#[test]
fn a_race_holds_the_lab_race_numbers() {
    let addr = server();
    let (status, body) = post_json(
        addr,
        "/api/race",
        &json!({"function": "rosenbrock", "start": [-1.5, 2.0], "steps": 200,
                 "optimizers": ["adam:lr=0.05", "momentum:lr=0.001", "sgd:lr=0.01"]}),
    );
    assert_eq!(status, 200, "{body}");
    let answer: RaceResponse = serde_json::from_value(body).unwrap();
    let mut race = Race::article();
    race.start = (-1.5, 2.0);
    race.steps = 200;
    race.optimizers = ["adam:lr=0.05", "momentum:lr=0.001", "sgd:lr=0.01"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let runs = race.run::<f64>(&builtin("rosenbrock").unwrap()).unwrap();
    assert_eq!(answer.runs.len(), 3);
    for (a, r) in answer.runs.iter().zip(&runs) {
        let expected: Vec<[f64; 3]> = r.points.iter().map(|p| [p.x, p.y, p.loss]).collect();
        assert_eq!(a.trajectory, expected, "{}", a.optimizer);
        assert_eq!(a.hyperparameters, r.hyperparameters);
        assert_eq!(a.diverged_at, r.diverged_at);
    }
    // sgd at 0.01 leaves Rosenbrock's valley at once.
    assert_eq!(answer.runs[2].status, "diverged");
    assert_eq!(answer.runs[0].status, "finished");
}

#[test]
fn the_landscape_holds_its_contours_and_a_bad_formula_its_column() {
    let addr = server();
    let (status, l) = post_json(addr, "/api/landscape", &json!({"function": "x^2/20 + y^2"}));
    assert_eq!(status, 200);
    assert_eq!(l["window"], json!([-5.0, 5.0, -5.0, 5.0]));
    assert!(l["contours"].as_array().unwrap().len() >= 5);
    let (status, e) = post_json(addr, "/api/landscape", &json!({"function": "x^2 + * y"}));
    assert_eq!(status, 400);
    assert_eq!(e["column"], 7);
    assert!(e["error"].as_str().unwrap().contains("(column 7)"), "{e}");
}

#[test]
fn exports_are_the_lab_figures_and_csv() {
    let addr = server();
    let body = json!({"optimizers": ["sgd:lr=0.95", "adam:lr=0.3"]}).to_string();
    let png = post(addr, "/api/export/png", body.as_bytes()).unwrap();
    assert_eq!(png.status, 200);
    assert_eq!(&png.body[..8], b"\x89PNG\r\n\x1a\n");
    let svg = post(addr, "/api/export/svg", body.as_bytes()).unwrap();
    assert!(svg.text().contains("<svg"));
    let gif = post(addr, "/api/export/gif", body.as_bytes()).unwrap();
    assert_eq!(&gif.body[..6], b"GIF89a");
    let csv = post(addr, "/api/export/csv", body.as_bytes()).unwrap();
    let mut race = Race::article();
    race.optimizers = vec![
        "sgd:lr=0.95".parse().unwrap(),
        "adam:lr=0.3".parse().unwrap(),
    ];
    let runs = race.run::<f64>(&builtin("article").unwrap()).unwrap();
    assert_eq!(csv.text(), optimist_lab::output::trajectories_csv(&runs));
    assert!(refused(addr, "/api/export/jpeg", body.as_bytes())
        .contains("known formats: png, svg, gif, csv"));
}

#[test]
fn tuning_reports_progress_and_the_lab_best_rates() {
    let addr = server();
    let (status, job) = post_json(
        addr,
        "/api/tune",
        &json!({"optimizers": ["sgd", "adam"], "trials": 10}),
    );
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["total"], 20);
    let path = format!("/api/tune/{}", job["id"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let s = get(addr, &path).unwrap().json().unwrap();
        if s["finished"] == true {
            break s;
        }
        assert!(Instant::now() < deadline, "the search never finished");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(done["done"], 20);
    let landscape = builtin("article").unwrap();
    let mut config = optimist_lab::tune::Tune::new(&landscape, 30);
    config.search.coarse = 6;
    config.search.refine = 4;
    let specs = ["sgd".parse().unwrap(), "adam".parse().unwrap()];
    let tuning = optimist_lab::tune::tune(&landscape, &specs, &config, &|| {}).unwrap();
    for (got, want) in done["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&tuning.results)
    {
        assert_eq!(got["lr"].as_f64().unwrap(), want.best().lr);
        assert_eq!(got["tuned"], want.tuned_spec().to_string());
    }
    assert_eq!(get(addr, "/api/tune/999").unwrap().status, 404);
    assert_eq!(get(addr, "/api/tune/0").unwrap().status, 404);
}

#[test]
fn bad_requests_are_refused_in_the_cli_words() {
    let addr = server();
    let race = |body: Value| refused(addr, "/api/race", body.to_string().as_bytes());
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"optimizers": ["adamm"]}),
            "unknown optimizer 'adamm' (did you mean 'adam'?); known optimizers: sgd,",
        ),
        (json!({"optimizers": ["adam:lr=-1"]}), "lr > 0"),
        (json!({"optimizers": ["adam:beta1=1.5"]}), "0 <= beta1 < 1"),
        (json!({"optimizers": ["adam:gamma=1"]}), "gamma"),
        (
            json!({"optimizers": ["sgd"], "steps": 100_001}),
            "steps: 100001 is not a whole number from 1 to 100000",
        ),
        (
            json!({"optimizers": ["sgd"], "steps": 0}),
            "from 1 to 100000",
        ),
        (
            json!({"optimizers": ["sgd"], "steps": 2.5}),
            "steps: 2.5 is not a whole number",
        ),
        (
            json!({"optimizers": vec!["sgd"; 21]}),
            "optimizers: 21 given; race 1 to 20",
        ),
        (json!({"optimizers": []}), "optimizers: 0 given"),
        (
            json!({"function": "rosenbrok", "optimizers": ["sgd"]}),
            "function 'rosenbrok' is neither a built-in landscape nor a formula",
        ),
        (
            json!({"function": "x^2 +", "optimizers": ["sgd"]}),
            "function: ",
        ),
        (
            json!({"function": "x+".repeat(500) + "y", "optimizers": ["sgd"]}),
            "the formula is 1001 characters long; at most 1000 are read",
        ),
        (
            json!({"window": [2, -2, -1, 3], "optimizers": ["sgd"]}),
            "needs XMIN < XMAX",
        ),
        (
            json!({"function": "log(x)", "start": [-1, 0], "optimizers": ["sgd"]}),
            "is not finite at the start (-1, 0)",
        ),
        (
            json!({"convention": "keras", "optimizers": ["sgd"]}),
            "unknown convention 'keras'; known conventions: article, pytorch, optax",
        ),
        (
            json!({"optimizers": ["sgd"], "trials": 5}),
            "score and trials choose how /api/tune searches",
        ),
        (
            json!({"optimizer": ["sgd"]}),
            "the request is not the JSON expected: unknown field `optimizer`",
        ),
        (
            json!({"optimizers": "sgd"}),
            "the request is not the JSON expected: invalid type",
        ),
    ];
    for (body, expected) in cases {
        let error = race(body.clone());
        assert!(error.contains(expected), "{body}: {error}");
    }
    assert!(refused(addr, "/api/race", b"{\"optimizers\": [\"sgd\"")
        .contains("the request is not the JSON expected: EOF"));
    assert!(refused(addr, "/api/race", b"").contains("the request is not the JSON expected"));
    let big = post(addr, "/api/race", &vec![b' '; MAX_BODY + 1]).unwrap();
    assert_eq!(big.status, 413);
    assert!(big.json().unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("the request body is 65537 bytes, over 64 KiB"));
    let tune = refused(
        addr,
        "/api/tune",
        json!({"optimizers": ["sgd"], "score": "speed"})
            .to_string()
            .as_bytes(),
    );
    assert!(
        tune.contains("unknown score 'speed'; expected loss or distance"),
        "{tune}"
    );
    let tune = refused(
        addr,
        "/api/tune",
        json!({"function": "x+y", "optimizers": ["sgd"], "score": "distance"})
            .to_string()
            .as_bytes(),
    );
    assert!(tune.contains("no known minimum"), "{tune}");
    let tune = refused(
        addr,
        "/api/tune",
        json!({"optimizers": vec!["sgd"; 20], "steps": 100_000})
            .to_string()
            .as_bytes(),
    );
    assert!(
        tune.contains("this tuning is 3000000000 units of work (1000 run(s) × 100000 steps × 30 per step (5 for f and its gradient, 25 for the update)); at most 600000000 here"),
        "{tune}"
    );
    let missing = get(addr, "/nowhere").unwrap();
    assert_eq!(missing.status, 404);
    assert!(missing.json().unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("no such page: '/nowhere'"));
    // The server is still up.
    assert_eq!(get(addr, "/api/landscapes").unwrap().status, 200);
}

#[test]
fn a_long_race_is_cut_off_and_blocks_no_other_request() {
    let addr = spawn(Limits {
        timeout: Duration::from_millis(300),
        budget: u64::MAX,
        ..Limits::default()
    })
    .unwrap();
    // 20 optimizers × 100,000 steps of a long formula: far more than 0.3 s.
    let formula = (1..=40)
        .map(|k| format!("sin(x/{k})*cos(y/{k})"))
        .collect::<Vec<_>>()
        .join(" + ");
    let slow =
        json!({"function": formula, "steps": 100_000, "optimizers": vec!["adam:lr=0.01"; 20]});
    let started = Instant::now();
    let handle = std::thread::spawn(move || {
        let r = post(addr, "/api/race", slow.to_string().as_bytes()).unwrap();
        (r, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(50));
    // While it runs, other requests are answered.
    let quick = Instant::now();
    let (status, body) = post_json(addr, "/api/race", &json!({"optimizers": ["sgd:lr=0.95"]}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(get(addr, "/api/optimizers").unwrap().status, 200);
    let quick = quick.elapsed();
    let (slow, slow_time) = handle.join().unwrap();
    assert_eq!(slow.status, 503, "{}", slow.text());
    let error = slow.json().unwrap()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("the race took longer than 0.3 s and was cut off"),
        "{error}"
    );
    assert!(slow_time >= Duration::from_millis(300));
    // The quick requests did not wait for the slow one to be cut off.
    assert!(quick < slow_time, "{quick:?} vs {slow_time:?}");
}

#[test]
fn the_page_is_served_whole_and_fetches_nothing_from_outside() {
    let addr = server();
    let r = get(addr, "/").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let html = r.text();
    assert!(html.contains("<canvas id=\"plot\""));
    assert!(!html.contains("{{"), "a slot was left unfilled");
    for outside in ["http://", "https://", "//cdn", "src=\""] {
        assert!(!html.contains(outside), "the page refers to {outside}");
    }
}
