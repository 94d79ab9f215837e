// Run once by the mongo-init service: initiate the replica set, wait for a primary, create the
// application user. Each step is skipped when already done, so re-running it is harmless.
try {
  rs.status();
} catch (e) {
  rs.initiate({_id: "sgl", members: [
    {_id: 0, host: "mongo1:27017", priority: 2},
    {_id: 1, host: "mongo2:27017"},
    {_id: 2, host: "mongo3:27017"}]});
}
for (let i = 0; i < 60 && !db.hello().isWritablePrimary; i++) { sleep(1000); }
const app = db.getSiblingDB("opensgl");
if (!app.getUser("opensgl")) {
  app.createUser({user: "opensgl", pwd: process.env.SGL_DB_PASSWORD, roles: [{role: "readWrite", db: "opensgl"}]});
}
print("replica set ready, primary " + db.hello().primary);
