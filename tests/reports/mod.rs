//! What the user sees: reports and the commands that print them.

// `simrace check`: its lines, exit codes, JUnit XML and JSON.
mod check;
// `simrace explain`: the story of a finding.
mod explain;
// `simrace grade`: an exercise against submissions, cheats included.
mod grade;
// The HTML report, without a browser.
mod html;
// `simrace replay`: exit status, the finding reached, threads by name.
mod replay;
// `simrace serve` over HTTP without a browser: bounds, and its calls' answers.
mod serve;
// The text report of every library scenario, pinned; verdicts, replays, determinism.
mod scenarios;
// `simrace step`, the game, driven through a pipe.
mod step;
