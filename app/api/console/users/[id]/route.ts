export { updateUserHandler as PATCH } from "@/lib/console/users";
