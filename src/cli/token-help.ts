/**
 * The help text of `--token-file`, shared by every command that talks to Spark Connect. Kept out
 * of spark-connect.ts so that building the program (`orchard --help`) loads no client code.
 */
export const TOKEN_FILE_HELP =
  "file holding the Spark Connect token (mode 0600; default $ORCHARD_SPARK_TOKEN_FILE, $SPARK_CONNECT_TOKEN, " +
  "or the token file of a local server orchard started)";
