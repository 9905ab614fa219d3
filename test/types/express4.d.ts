// express@4 installed under an alias for the Express 4 test run; its API surface used here matches @types/express.
declare module 'express4' {
  import express from 'express';
  export default express;
}
