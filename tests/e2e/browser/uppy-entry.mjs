// The entry esbuild bundles into the Uppy test page's /uppy.js (tests/e2e/test_browser.py):
// Uppy 6 as an app would import it, exposed to the page's plain script.
import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";

globalThis.Uppy = Uppy;
globalThis.AwsS3 = AwsS3;
