import testing from './testing.js'

export const { sign, signedQuery, sampleBody, sampleAddBody } = testing
export default testing
